"""Pass+ tickets at the hub: the network's one record of used tickets, and its export."""

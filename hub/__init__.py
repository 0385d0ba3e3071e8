"""The museum hub: stores every gate's journal once, passes changes on, publishes lists."""

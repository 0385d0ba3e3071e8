"""The counter (desk mode): sales, renewals, the cash register and its records.

Pure rules (``rules.py``, ``roles.py``, ``till.py``, ``stats.py``) take what
they need as arguments and never read a clock, a file or a device; the
service (``service.py``) gathers the inputs, commits journal records and only
then prints. See "Counter" in ``docs/architecture.md``.
"""

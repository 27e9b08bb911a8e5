"""Bring your own feeder: importers from pandapower, MATPOWER (through pandapower's converter) and SimBench,
and the reader of hourly profiles (CSV/Parquet) that imported instances reference.

Nothing here imports pandapower, simbench or pyarrow at module load: they are optional extras
(``gplopt[import]``, ``gplopt[simbench]``, ``gplopt[parquet]``), imported when a command needs them.
"""

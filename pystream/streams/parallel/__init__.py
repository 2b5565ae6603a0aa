"""Worker-process parallelism: a driver plans batches, worker processes run them.

See `execution.ParallelExecution` for the protocol and `stages` for how a plan is split
around its stateful operator into a map stage and a reduce stage.
"""

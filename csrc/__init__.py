# Data package: the CUDA C sources beside this file ship inside the wheel as ``optsolve.csrc``.

"""Reading the files people hand us: HR's roster and the national system's status exports.

Turns .xlsx, .xls and .csv (UTF-8, UTF-8 with BOM, GBK/GB18030) into rows of cells,
finds the header row by its names, and leaves the meaning of cells to `workflow`.
"""

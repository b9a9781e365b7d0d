a = 1e400
b = 089
c = 0x
d = 12ab

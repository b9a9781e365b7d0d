l = [
  "a", # first
  "b", // second
  /* third */ "c",
  [1, [2, []]],
  {a = 1, b { c = true }},
]

"allowed" = ["a", "b"]

"ttl" = 30

"enabled" = true

"nested" = {
  "k" = "v"
}

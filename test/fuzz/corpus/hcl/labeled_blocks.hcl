policy "name" {
  x = 1
}
policy "other" "sub" { y = [true, false] }
"quoted key" = 1, a = { b = {} }

a = 1
b {
  c = 2 /* multi
line */
}
h = <<EOF
x
EOF

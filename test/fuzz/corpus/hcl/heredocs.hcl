h = <<EOF
line 1
  line 2
EOF
i = <<-EOT
    a

      b
    EOT
l = [<<A
x
A
, "y"]

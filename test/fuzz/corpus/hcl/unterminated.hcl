a = "unterminated
b = <<EOF
never closed

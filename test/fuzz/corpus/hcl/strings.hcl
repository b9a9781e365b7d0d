s = "q\" b\\ n\n t\t r\r u\u00e9 U\U0001F600 ${var.x} ${f("a", {b})}"

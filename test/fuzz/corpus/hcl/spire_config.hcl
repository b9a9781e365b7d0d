plugins {
  NodeAttestor "twi" {
    plugin_cmd = "/opt/bin/twi"
    plugin_args = ["--flag", "value"]
    plugin_data {
      some_key = "some value"
      cache-dir = "/var/cache"
      foo.bar = 1
    }
  }
}

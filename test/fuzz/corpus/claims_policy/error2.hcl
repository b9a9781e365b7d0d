claims_mapper {
  refset "r" {
    version "1" {
      state = "retired"
      gcp_zone = ["eu*rope"]
      tdx_mrtd = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*"]
    }
  }
  rule "x" {
    when { refset = "r" }
    emit = ["claim:x"]
  }
}

claims_mapper {
  policy_id = "p"
  refset "r" {
    version "1" {
      state = "revoked"
      sev_snp_measurement = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
    }
    version "2" {
      not_after = "2020-01-01T00:00:00Z"
      sev_snp_measurement = ["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]
    }
  }
  rule "x" {
    when { refset = "r" }
    emit = ["claim:x"]
  }
}

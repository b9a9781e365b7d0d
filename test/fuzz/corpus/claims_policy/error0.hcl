claims_mapper {
  policy_id = "p"
  refset "r" {
    version "1" { sev_snp_measurement = ["abcd"] }
  }
  rule "x" {
    when { refset = "r" }
    emit = ["claim:x"]
  }
}

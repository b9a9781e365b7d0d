claims_mapper {
  policy_id = "p"
  on_no_rule_matc = "deny"
  rule "x" {
    when { sev_snp_measurment = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] }
    emit = ["workload:payroll"]
  }
  rule "y" {
    when { refset = "nope" }
    emit = ["claim:y"]
  }
}

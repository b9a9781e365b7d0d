claims_mapper {
  policy_id = "p"
  rule "a b" {
    when { sev_snp_tcb_snp = { max = 3 } }
    emit = []
  }
}

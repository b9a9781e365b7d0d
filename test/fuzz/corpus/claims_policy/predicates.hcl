claims_mapper {
  policy_id = "preds"
  on_no_rule_match = "accept"
  rule "hardened" {
    when {
      debug           = false
      sev_snp_tcb_snp = { min = 5 }
      sev_snp_vmpl    = [0, 1]
      tpm_pcr_sha256_7 = ["ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"]
    }
    emit = ["claim:hardened", "claim:hardened"]
  }
}

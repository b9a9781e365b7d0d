claims_mapper {
  policy_id          = "acme-tee-7"
  on_no_rule_match   = "deny"
  emit_raw_selectors = true

  refset "payroll-image" {
    version "2026.10" {
      state               = "deprecated"
      not_after           = "2026-12-31T00:00:00Z"
      sev_snp_measurement = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
    }
    version "2026.11" {
      sev_snp_measurement = ["BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"]
      tdx_mrtd            = ["111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"]
      tdx_rtmr2           = ["cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"]
    }
  }

  rule "payroll" {
    when {
      tee    = ["sev-snp", "tdx"]
      refset = "payroll-image"
    }
    emit = ["claim:workload:payroll"]
  }
  rule "prod-location" {
    when { gcp_zone = ["europe-*"] }
    emit = ["claim:location:eu"]
  }
}

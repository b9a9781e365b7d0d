# plugin_data of twi-agent-nodeattestor for the quickstart (@STATE@ is replaced by a temp dir).
state_dir = "@STATE@/agent"
simulate  = "sev-snp"

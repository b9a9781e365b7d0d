# plugin_data of twi-server-nodeattestor for the quickstart: accepts the simulator's roots.
insecure_simulation_roots = true

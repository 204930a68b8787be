# frozen_string_literal: true

# Envelope-protocol transports (spec 05 §9-12): TCPAdapter, HTTPAdapter
# (Rack app, SSE) and MCPAdapter. Required from lib/igniter/store.rb.

# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/mcp_adapter/stdio_server.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/mcp/stdio_server"` still works.
require "igniter/store/adapters"

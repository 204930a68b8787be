# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/mcp_adapter/remote_dispatch.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/mcp/remote_dispatch"` still works.
require "igniter/store/adapters"

# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/sse_body.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/sse_body"` still works.
require "igniter/store/adapters"

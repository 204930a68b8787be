# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http_adapter"` still works.
require "igniter/store/adapters"

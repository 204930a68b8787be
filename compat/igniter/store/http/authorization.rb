# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/authorization.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/authorization"` still works.
require "igniter/store/adapters"

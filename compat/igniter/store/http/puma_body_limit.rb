# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/puma_body_limit.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/puma_body_limit"` still works.
require "igniter/store/adapters"

# frozen_string_literal: true

# Moved to lib/igniter/store/core/fact_decode.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/fact_decode"` still works.
require "igniter/store/core"

# frozen_string_literal: true

# Moved to lib/igniter/store/engine/coerced_fact.rb
# (loaded with the engine layer);
# kept so that `require "igniter/store/coerced_fact"` still works.
require "igniter/store/engine"

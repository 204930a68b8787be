# frozen_string_literal: true

# Moved to lib/igniter/store/engine/census.rb
# (loaded with the engine layer);
# kept so that `require "igniter/store/census"` still works.
require "igniter/store/engine"

# frozen_string_literal: true

# Moved to lib/igniter/store/core/native/fact_log.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/native_fact_log"` still works.
require "igniter/store/core"

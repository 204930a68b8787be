# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/salvage_plan.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/salvage_plan"` still works.
require "igniter/store/storage"

# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer/diagnostic_ring.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed/diagnostic_ring"` still works.
require "igniter/store/feed"

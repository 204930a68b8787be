# frozen_string_literal: true

# Moved to lib/igniter/store/feed/event_ring.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/event_ring"` still works.
require "igniter/store/feed"

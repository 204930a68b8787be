# frozen_string_literal: true

# Moved to lib/igniter/store/feed/change_event.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/change_event"` still works.
require "igniter/store/feed"

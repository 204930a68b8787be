# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      module Views
        # The time-travel control of the store and key pages: "as of" a
        # transaction time, and the "valid at" field that is enabled once the
        # store's reads take a valid time ({ReadModel#valid_time_reads?}).
        module TimeTravel
          # @param path [String] the page the form submits to
          # @param keep [Hash] parameters the form carries along (store, key, scope)
          # @param time [Hash] the read model's `time` entry
          # @return [String] the form and, when applicable, what it is showing
          def time_travel_form(request, path, keep, time)
            base = request.script_name.to_s
            hidden = keep.compact.map { |name, value| %(<input type="hidden" name="#{h(name)}" value="#{h(value)}">) }.join
            valid = time[:valid_time_reads]
            <<~HTML
              <form class="time-travel" method="get" action="#{url(base, path)}">
              #{hidden}
              <label>As of (transaction time)
              <input type="text" name="as_of" value="#{time[:as_of] ? h(iso(time[:as_of])) : ""}" placeholder="now — ISO-8601 or epoch seconds" data-epoch="#{time[:as_of] ? h(epoch(time[:as_of])) : ""}"></label>
              <label class="#{valid ? "" : "unavailable"}">Valid at (valid time)
              <input type="text" name="valid_at" value="#{time[:valid_at] ? h(iso(time[:valid_at])) : ""}" placeholder="#{valid ? "any — ISO-8601 or epoch seconds" : "needs valid-time reads"}"#{valid ? "" : %( disabled title="this ledger's reads do not take a valid time yet")}></label>
              <button type="submit">Travel</button>
              #{link("Now", base, path, keep)}
              </form>
              #{time_notice(time)}
            HTML
          end

          private

          def time_notice(time)
            notices = []
            notices << %(<p class="notice travel" data-as-of="#{h(epoch(time[:as_of]))}">Showing the ledger as of #{time_tag(time[:as_of])}.</p>) if time[:as_of]
            if time[:valid_at] && time[:valid_at_applied]
              notices << %(<p class="notice travel" data-valid-at="#{h(epoch(time[:valid_at]))}">Showing the values valid at #{time_tag(time[:valid_at])}.</p>)
            elsif time[:valid_at]
              notices << %(<p class="notice warn">valid_at #{time_tag(time[:valid_at])} is not applied: this ledger's reads do not take a valid time.</p>)
            end
            notices.join
          end
        end
      end
    end
  end
end

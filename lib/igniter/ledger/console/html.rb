# frozen_string_literal: true

require "json"
require "time"

module Igniter
  module Ledger
    class Console
      # The only way page code turns data into markup: {#h} escapes text and
      # attribute values (& < > " ' /), {#json_text} shows any value as
      # compact JSON *text* (escaped like everything else), and time and link
      # helpers build on those. A value can therefore never become markup,
      # whatever a fact's store, key or value holds.
      module Html
        # Longest JSON preview shown in a table cell before it is cut.
        PREVIEW_CHARS = 160

        module_function

        # @param value [Object] anything; nil becomes ""
        # @return [String] HTML-escaped text
        def h(value)
          Rack::Utils.escape_html(value.to_s)
        end

        # @param value [Object] a fact value or field
        # @param limit [Integer, nil] cut to this many characters (with "…")
        # @return [String] escaped compact JSON (Strings as bare text)
        def json_text(value, limit: nil)
          text = value.is_a?(String) ? value : JSON.generate(value)
          text = "#{text[0, limit]}…" if limit && text.length > limit
          h(text)
        rescue JSON::GeneratorError
          h(value.inspect)
        end

        # @return [String] escaped JSON of +value+, Strings quoted (so "1" and 1 differ)
        def json_literal(value)
          h(JSON.generate(value))
        rescue JSON::GeneratorError
          h(value.inspect)
        end

        # @return [String] escaped, indented JSON for a `<pre>` block
        def json_pretty(value)
          h(JSON.pretty_generate(value))
        rescue JSON::GeneratorError
          h(value.inspect)
        end

        # @param seconds [Numeric, nil] epoch seconds (a transaction or valid time)
        # @return [String] escaped ISO-8601 UTC with microseconds, "—" for nil
        def time_text(seconds)
          return "—" unless seconds.is_a?(Numeric)

          h(iso(seconds))
        end

        # @param seconds [Numeric]
        # @return [String] ISO-8601 UTC with microseconds (not escaped)
        def iso(seconds)
          Time.at(seconds.to_r).utc.iso8601(6)
        end

        # A `<time>` element: ISO text, the exact epoch seconds as its datetime
        # attribute's companion so scripts can reuse them.
        # @return [String]
        def time_tag(seconds)
          return "—" unless seconds.is_a?(Numeric)

          %(<time datetime="#{h(iso(seconds))}" data-epoch="#{h(epoch(seconds))}">#{time_text(seconds)}</time>)
        end

        # @return [String] epoch seconds as Ruby prints the Float (round-trips exactly)
        def epoch(seconds)
          seconds.is_a?(Float) ? seconds.to_s : seconds.to_f.to_s
        end

        # @param base [String] the console's mount path ("" at the root)
        # @param path [String] page path below it, e.g. "/key"
        # @param params [Hash] query parameters; nil values are left out
        # @return [String] escaped URL for an href/src attribute
        def url(base, path, params = {})
          query = Rack::Utils.build_query(params.reject { |_, v| v.nil? || v == "" }.transform_keys(&:to_s))
          h(query.empty? ? "#{base}#{path}" : "#{base}#{path}?#{query}")
        end

        # @param attrs [Hash{Symbol=>Object}] more attributes ("_" in a name becomes "-")
        # @return [String] `<a>` with escaped text and URL
        def link(text, base, path, params = {}, attrs = {})
          extra = attrs.map { |name, value| %( #{name.to_s.tr("_", "-")}="#{h(value)}") }.join
          %(<a href="#{url(base, path, params)}"#{extra}>#{h(text)}</a>)
        end
      end
    end
  end
end

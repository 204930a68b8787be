# frozen_string_literal: true

require "json"
require "time"

module Igniter
  module Store
    module CLI
      # How the ledger tools print: plain text for people, `--json` for
      # programs. JSON output is one pretty-printed document on standard
      # output; JSON.generate writes Symbols (keys and values) as Strings.
      # What the tools print holds only decoded fact data and report values,
      # so no application `to_json` is ever called.
      module Output
        module_function

        # Prints +doc+ as one pretty-printed JSON document.
        #
        # @param io [IO]
        # @param doc [Object]
        # @return [nil]
        def json(io, doc)
          io.puts(JSON.pretty_generate(doc))
          nil
        end

        # @param seconds [Numeric, nil] since the epoch
        # @return [String] ISO-8601 UTC with microseconds, "-" for nil
        def time(seconds)
          return "-" if seconds.nil?

          # Rounded to the microsecond shown: a Float such as 1795675821.458
          # lies just below that decimal, and Time would print .457999.
          Time.at(Rational(seconds).round(6)).utc.iso8601(6)
        end

        # @param seconds [Numeric, nil]
        # @return [String, nil] ISO-8601 UTC with microseconds (JSON fields)
        def time_or_nil(seconds)
          seconds && time(seconds)
        end

        # @param number [Integer]
        # @return [String] with thousands separators ("3,158")
        def number(number)
          number.to_s.reverse.scan(/\d{1,3}/).join(",").reverse.then { |s| number.negative? ? "-#{s}" : s }
        end

        # @param bytes [Integer]
        # @return [String] "812 B", "3.1 KiB (3,158 B)", "75.2 MiB (78,843,392 B)"
        def bytes(bytes)
          return "#{number(bytes)} B" if bytes < 1024

          unit, scale = [["GiB", 1 << 30], ["MiB", 1 << 20], ["KiB", 1 << 10]].find { |_, s| bytes >= s }
          format("%<v>.1f %<u>s (%<b>s B)", v: bytes.to_f / scale, u: unit, b: number(bytes))
        end

        # @param count [Integer]
        # @param word [String] singular
        # @param plural [String]
        # @return [String] "1 fact", "8 facts"
        def count(count, word, plural = "#{word}s")
          "#{number(count)} #{count == 1 ? word : plural}"
        end

        # @param path [String, nil]
        # @return [String, nil] relative to the working directory when it lies below it
        def display(path)
          return path if path.nil?

          cwd = Dir.pwd + File::SEPARATOR
          path.start_with?(cwd) ? path.delete_prefix(cwd) : path
        end

        # A fact's one-line JSON value (Symbols as Strings).
        #
        # @param value [Object]
        # @return [String]
        def value(value)
          JSON.generate(value)
        end
      end
    end
  end
end

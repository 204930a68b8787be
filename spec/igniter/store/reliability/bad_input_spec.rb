# frozen_string_literal: true

# The bad-input table of doc/reliability.md, row by row, on a file store and
# a segmented store: each input is either stored faithfully (the value read
# back after a reopen is the one read before it) or rejected with the listed
# exception class and message, writing nothing and leaving the store usable.
# The same rows run on the native and the pure path.
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module BadInputSpec
    RSpec.describe "Bad input: stored faithfully or rejected cleanly" do
      include LedgerSpec::Reliability

      around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

      BACKENDS = {
        "file" => ->(dir) { Igniter::Store.open(File.join(dir, "ledger.wal")) },
        "segmented" => ->(dir) { Igniter::Store.segmented(File.join(dir, "segments"), time_bucket: :none) }
      }.freeze

      CYCLIC_HASH = {}.tap { |h| h[:self] = h }
      CYCLIC_ARRAY = [].tap { |a| a << a }
      DEEP = (1..101).reduce(1) { |v, _| [v] } # 101 nested Arrays
      INVALID_UTF8 = "caf\xE9".dup.force_encoding(Encoding::UTF_8)
      OVER_FRAME_LIMIT = Igniter::Store::WireProtocol::MAX_FRAME_LEN + 1

      def write(store, **overrides)
        store.write(**{ store: :items, key: "k", value: { v: 1 } }.merge(overrides))
      end

      REJECTED = {
        "NaN in a value" => [->(s) { write(s, value: { x: Float::NAN }) },
                             Igniter::Store::NonFiniteNumberError, /\ANaN not allowed in JSON\z/],
        "-Infinity in a value" => [->(s) { write(s, value: [-Float::INFINITY]) },
                                   Igniter::Store::NonFiniteNumberError, /\A-Infinity not allowed in JSON\z/],
        "NaN valid_time" => [->(s) { write(s, valid_time: Float::NAN) },
                             Igniter::Store::NonFiniteNumberError, /NaN not allowed/],
        "Infinity in producer" => [->(s) { write(s, producer: { at: Float::INFINITY }) },
                                   Igniter::Store::NonFiniteNumberError, /Infinity not allowed/],
        "invalid UTF-8 in a value" => [->(s) { write(s, value: { name: INVALID_UTF8 }) },
                                       Igniter::Store::InvalidEncodingError, %r{illegal/malformed utf-8}],
        "invalid UTF-8 Hash key" => [->(s) { write(s, value: { INVALID_UTF8 => 1 }) },
                                     Igniter::Store::InvalidEncodingError, %r{illegal/malformed utf-8}],
        "invalid UTF-8 fact key" => [->(s) { write(s, key: INVALID_UTF8) },
                                     Igniter::Store::InvalidEncodingError, %r{illegal/malformed utf-8}],
        "binary String with non-ASCII bytes" => [->(s) { write(s, value: { blob: "\xFF\x00\x01".b }) },
                                                 Igniter::Store::InvalidEncodingError, %r{illegal/malformed utf-8}],
        "cyclic Hash" => [->(s) { write(s, value: CYCLIC_HASH) }, JSON::NestingError, /nesting of 101 is too deep/],
        "cyclic Array" => [->(s) { write(s, value: { a: CYCLIC_ARRAY }) }, JSON::NestingError, /nesting of 101/],
        "101 nested containers" => [->(s) { write(s, value: DEEP) }, JSON::NestingError, /nesting of 101/],
        "value over the 64 MiB frame limit" => [->(s) { write(s, value: "x" * OVER_FRAME_LIMIT) },
                                                ArgumentError, /frame body of \d+ bytes exceeds 67108864/],
        "a Proc in a value" => [->(s) { write(s, value: { callback: proc {} }) },
                                Igniter::Store::UnrepresentableValueError,
                                /\AProc value has no JSON form: its text carries a memory address\z/],
        "an IO in a value" => [->(s) { write(s, value: [$stderr]) }, Igniter::Store::UnrepresentableValueError,
                               /\AIO value has no JSON form/],
        "a plain Object in producer" => [->(s) { write(s, producer: { by: Object.new }) },
                                         Igniter::Store::UnrepresentableValueError, /\AObject value has no JSON form/],
        "a Thread as a Hash key" => [->(s) { write(s, value: { Thread.current => 1 }) },
                                     Igniter::Store::UnrepresentableValueError, /\AThread value has no JSON form/],
        "nil store" => [->(s) { write(s, store: nil) }, ArgumentError, /\Astore is required\z/],
        "nil key" => [->(s) { write(s, key: nil) }, ArgumentError, /\Akey is required\z/],
        "unknown keyword to write" => [->(s) { write(s, colour: :red) }, ArgumentError, /unknown keyword: :colour/],
        "unknown keyword to append" => [->(s) { s.append(history: :events, event: {}, colour: :red) },
                                        ArgumentError, /unknown keyword: :colour/],
        "String as_of" => [->(s) { s.read(store: :items, key: "k", as_of: "yesterday") },
                           ArgumentError, /as_of must be seconds since the epoch .*String/],
        "Object as_of" => [->(s) { s.history(store: :items, as_of: Object.new) }, ArgumentError, /as_of must be/],
        "String since" => [->(s) { s.history(store: :items, since: "1h") }, ArgumentError, /since must be/],
        "NaN since" => [->(s) { s.fact_log_all(since: Float::NAN) }, ArgumentError, /since must be/],
        "String ttl" => [->(s) { s.read(store: :items, key: "k", ttl: "60") }, ArgumentError, /ttl must be a non-negative/],
        "negative ttl" => [->(s) { s.read(store: :items, key: "k", ttl: -1) }, ArgumentError, /ttl must be/]
      }.freeze

      # [input, expected value read back (before and after reopen)]
      STORED = {
        "ASCII-only binary String" => [{ tag: "abc".b }, { tag: "abc" }],
        "8 MB String value" => [{ blob: "é" * 4_000_000 }, { blob: "é" * 4_000_000 }],
        "Integer beyond 64 bits" => [{ big: 2**70, neg: -2**64 }, { big: 2**70, neg: -2**64 }],
        "Symbol values" => [{ state: :open, tags: %i[a b] }, { state: :open, tags: %i[a b] }],
        "Integer and nil Hash keys" => [{ 1 => :one, nil => 0 }, { "1": :one, "": 0 }],
        "nil value" => [nil, nil],
        "bare String value" => ["just text", "just text"],
        "control characters and U+2028" => [{ s: "\u0000\t\u2028\"\\" }, { s: "\u0000\t\u2028\"\\" }],
        "-0.0 and tiny floats" => [{ z: -0.0, t: 5e-324 }, { z: -0.0, t: 5e-324 }]
      }.freeze

      def persisted_bytes(dir)
        Dir.glob(File.join(dir, "**", "*")).select { |f| File.file?(f) }.sum { |f| File.size(f) }
      end

      BACKENDS.each do |kind, opener|
        describe "on a #{kind} store" do
          let(:store) { opener.call(@dir) }

          def reopen(opener)
            store.close
            opener.call(@dir)
          end

          REJECTED.each do |label, (action, error, message)|
            it "rejects #{label} with #{error}, writing nothing" do
              write(store, key: "before")
              bytes = persisted_bytes(@dir)

              expect { instance_exec(store, &action) }.to raise_error(error, message)
              expect(store.fact_count).to eq(1)
              expect(persisted_bytes(@dir)).to eq(bytes)

              write(store, key: "after", value: { v: 2 })
              reopened = reopen(opener)
              expect(reopened.fact_log_all.map(&:key)).to eq(%w[before after])
              reopened.close
            end
          end

          STORED.each do |label, (input, expected)|
            it "stores #{label} faithfully across a reopen" do
              write(store, key: "k", value: input)
              expect(store.read(store: :items, key: "k")).to eq(expected)

              reopened = reopen(opener)
              value = reopened.read(store: :items, key: "k")
              expect(value).to eq(expected)
              expect(value.to_s.encoding).to eq(Encoding::UTF_8) if value.is_a?(String)
              reopened.close
            end
          end

          it "stores a 1 MB key and an empty key faithfully across a reopen" do
            long = "k" * 1_000_000
            write(store, key: long, value: { n: 1 })
            write(store, key: "", value: { n: 2 })
            reopened = reopen(opener)
            expect(reopened.read(store: :items, key: long)).to eq(n: 1)
            expect(reopened.read(store: :items, key: "")).to eq(n: 2)
            reopened.close
          end

          it "keeps the to_s text of other objects (0.5.2 compatibility): the object in memory, its text after a reopen" do
            at = Time.at(0).utc
            write(store, value: { at: at, r: Rational(1, 3) })
            expect(store.read(store: :items, key: "k")).to eq(at: at, r: Rational(1, 3))
            reopened = reopen(opener)
            expect(reopened.read(store: :items, key: "k")).to eq(at: "1970-01-01 00:00:00 UTC", r: "1/3")
            reopened.close
          end

          it "accepts Time and Integer bounds as seconds since the epoch" do
            fact = write(store)
            expect(store.read(store: :items, key: "k", as_of: Time.at(fact.transaction_time + 1))).to eq(v: 1)
            expect(store.history(store: :items, since: 0, as_of: fact.transaction_time.ceil).size).to eq(1)
          end
        end
      end

      it "rejects an empty store name and one with a path separator on a segmented store only (a file store keeps them)" do
        segmented = BACKENDS.fetch("segmented").call(@dir)
        expect { write(segmented, store: "") }.to raise_error(Igniter::Store::InvalidStoreNameError, /is empty/)
        expect { write(segmented, store: "a/b") }.to raise_error(Igniter::Store::InvalidStoreNameError, /path separator/)
        expect(segmented.fact_count).to eq(0)
        segmented.close

        file = BACKENDS.fetch("file").call(@dir)
        write(file, store: "")
        write(file, store: "a/b")
        file.close
        reopened = BACKENDS.fetch("file").call(@dir)
        expect(reopened.fact_log_all.map(&:store)).to eq([:"", :"a/b"])
        reopened.close
      end
    end
  end
end

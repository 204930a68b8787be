# frozen_string_literal: true

module LedgerSpec
  # Helpers for spec/igniter/store/reliability: open stores on an explicit
  # backend, damage files, and check facts and causation chains.
  module Reliability
    # A store over a FileBackend with +durability+ (and +recovery+), replayed
    # as IgniterStore.open does (which takes no durability option).
    def open_file_store(path, durability: :flush, recovery: :salvage)
      backend = Igniter::Store::FileBackend.new(path, durability: durability, recovery: recovery)
      replayed_store(backend)
    end

    # A store over a SegmentedFileBackend, replayed as Igniter::Store.segmented does.
    def open_segmented_store(root, **options)
      replayed_store(Igniter::Store::SegmentedFileBackend.new(root, **options))
    end

    def replayed_store(backend)
      store = Igniter::Store::IgniterStore.new(backend: backend)
      backend.replay.each { |fact| store.__send__(:replay, fact) }
      store
    end

    def backend_of(store)
      store.instance_variable_get(:@backend)
    end

    # Ids of every live fact, in log order.
    def fact_ids(store)
      store.fact_log_all.map(&:id)
    end

    # Every fact's causation is the id of the previous fact of the same
    # store and key in log order (nil for the first one): the chain each
    # `write` builds. Returns the offending facts (empty when intact).
    def broken_causation(facts)
      previous = {}
      facts.each_with_object([]) do |fact, broken|
        slot = [fact.store, fact.key]
        broken << fact unless fact.causation == previous[slot]
        previous[slot] = fact.id
      end
    end

    # +bytes+ with bit +bit+ of byte +offset+ inverted.
    def flip_bit(bytes, offset, bit)
      damaged = bytes.b
      damaged.setbyte(offset, damaged.getbyte(offset) ^ (1 << bit))
      damaged
    end

    # Frame index of +offset+ in +frames+ (from {Helpers#parse_frames}):
    # the frame that holds the byte, or frames.size past the last one.
    def frame_index_at(frames, offset)
      frames.index { |f| offset < f[:offset] + f[:size] } || frames.size
    end

    # The byte range covered by the last +count+ frames.
    def last_frames_range(frames, count)
      first = frames[-count]
      first[:offset]...(frames.last[:offset] + frames.last[:size])
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # Like {Helpers#with_tmpdir}, but on tmpfs (/dev/shm) when there is one:
    # these specs open, truncate and fsync thousands of small files, which on a
    # busy disk costs seconds of fsync and metadata I/O. They pin recovery
    # logic, not the device, so tmpfs changes nothing they check.
    def with_scratch_dir(&block)
      shm = "/dev/shm"
      base = File.directory?(shm) && File.writable?(shm) ? shm : nil
      Dir.mktmpdir("igniter-ledger-reliability", base, &block)
    end

    # Starts `ruby -I lib -e script -- args` on the same path (native or pure)
    # as this process, outside Bundler; stdout is a pipe. Returns [pid, io].
    def spawn_ruby(script, args: [])
      env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
      reader, writer = IO.pipe
      pid = without_bundler do
        rubyopt = ENV["RUBYOPT"].to_s.split.reject { |opt| opt.include?("bundler") }.join(" ")
        clean = { "BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil, "RUBYOPT" => (rubyopt.empty? ? nil : rubyopt) }
        Process.spawn(clean.merge(env), RbConfig.ruby, "-I", LedgerSpec::LIB_DIR, "-e", script, "--", *args,
                      out: writer, err: File::NULL, chdir: LedgerSpec::ROOT)
      end
      writer.close
      [pid, reader]
    end

    # Reads lines from +io+ until +count+ have arrived or +deadline+
    # (monotonic seconds) passes. +buffer+ holds a partial line between
    # calls. Returns [lines, buffer].
    def read_lines(io, count, deadline, buffer = +"")
      lines = []
      while lines.size < count
        left = deadline - monotonic
        break if left <= 0
        break unless io.wait_readable(left)

        chunk = io.read_nonblock(4096, exception: false)
        break if chunk.nil?
        next if chunk == :wait_readable

        buffer << chunk
        while (newline = buffer.index("\n"))
          lines << buffer.slice!(0, newline + 1).chomp
        end
      end
      [lines, buffer]
    end

    # SIGKILLs +pid+ and reaps it (bounded: SIGKILL cannot be ignored).
    def kill_and_reap(pid)
      Process.kill(:KILL, pid)
    rescue Errno::ESRCH
      nil
    ensure
      Process.wait(pid)
    end
  end
end

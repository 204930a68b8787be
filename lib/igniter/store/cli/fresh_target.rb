# frozen_string_literal: true

require "fileutils"

module Igniter
  module Store
    module CLI
      # A target that holds something already, or is the source itself.
      class TargetTakenError < Error; end

      # A place a tool writes a new ledger or copy to (`salvage --out`,
      # `backup DEST`): refused when it holds anything already, never the
      # source itself or inside it; what the tool created there is removed
      # again when the tool fails, so a failed run leaves no half ledger.
      class FreshTarget
        # @return [String]
        attr_reader :path

        # @param path [String] the target
        # @param kind [Symbol] `:file` (with its sidecars beside it) or `:directory`
        # @param source [String] the ledger read
        # @param sidecars [Array<String>] suffixes of the files a file target gets beside it
        # @param empty_ok [Boolean] an empty file or directory may be written into
        # @raise [TargetTakenError] the target exists (and is not empty, with
        #   +empty_ok+), or is the source or inside it
        def initialize(path, kind, source:, sidecars: [], empty_ok: true)
          @path = path
          @kind = kind
          @sidecars = sidecars
          refuse_source(source)
          @existed = File.exist?(path)
          empty_ok ? refuse_taken : refuse_existing
        end

        # Runs the block; when it raises, removes what it wrote to the target.
        # @return [Object] the block's value
        def write
          yield
        rescue Exception # rubocop:disable Lint/RescueException -- clean up on any failure, then re-raise
          remove_partial
          raise
        end

        private

        def refuse_source(source)
          target = File.expand_path(@path)
          origin = File.expand_path(source)
          taken = target == origin || (File.exist?(@path) && File.exist?(source) && File.identical?(@path, source))
          raise TargetTakenError, "#{@path} is the ledger itself; give a new path" if taken
          return unless target.start_with?(origin + File::SEPARATOR)

          raise TargetTakenError, "#{@path} lies inside the ledger #{source}; give a path outside it"
        end

        def refuse_taken
          if @kind == :directory
            return unless @existed
            raise TargetTakenError, "#{@path} exists and is not a directory" unless File.directory?(@path)
            return if Dir.empty?(@path)

            raise TargetTakenError, "#{@path} exists and is not empty; give a new or empty directory"
          else
            taken = [@path, *@sidecars.map { |s| @path + s }].find do |f|
              File.exist?(f) && !(File.file?(f) && File.zero?(f))
            end
            raise TargetTakenError, "#{taken} exists and is not empty; give a new path" if taken
          end
        end

        def refuse_existing
          taken = [@path, *@sidecars.map { |s| @path + s }].find { |f| File.exist?(f) || File.symlink?(f) }
          raise TargetTakenError, "#{taken} exists; give a new path" if taken
        end

        def remove_partial
          if @kind == :directory
            @existed ? Dir.children(@path).each { |c| FileUtils.rm_rf(File.join(@path, c)) } : FileUtils.rm_rf(@path)
          else
            @existed ? File.truncate(@path, 0) : FileUtils.rm_f(@path)
            @sidecars.each { |s| FileUtils.rm_rf(@path + s) }
          end
        rescue SystemCallError
          nil # the failure that got us here is what the user must see
        end
      end
    end
  end
end

using System.Formats.Tar;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Dapp.Engine;
using Dapp.Git;
using Dapp.Reporting;
using Dapp.Stages;
using Docker.DotNet.Models;

namespace Dapp.Build;

/// <summary>
/// The g_a_archive stage made without a container: the git paths' archive becomes the stage's layer as it is,
/// streamed into the engine's load API on the previous stage's layers as it is read from git. The engine writes the
/// files once, where a container has them written into it and then read back by the commit's diff (on a repository
/// of 100,000 files, 7 s of the stage's ~45). Only for what a layer can say as it is: no owner or group to set (those
/// are names in the image's own /etc/passwd); with them, or on an engine that does not load the image as written,
/// the stage is built in a container.
/// </summary>
internal sealed class ArchiveLayer(IDockerEngine engine, IReporter reporter)
{
    public static bool Applies(StageWork work) =>
        work.Git.Count > 0 && work.Git.All(g => g.IsArchive && g.Path.Config.Owner is null && g.Path.Config.Group is null)
        && work.Commands.Count == 0 && work.Imports.Count == 0 && work.AnsibleTasks.Count == 0 && work.DockerChanges is null;

    /// <summary>Makes the image and tags it <paramref name="target"/>; false (and nothing made) when it has to be built in a container.</summary>
    /// <param name="beforeCommit">Awaited before the image is made, as before a commit.</param>
    public async Task<bool> TryBuildAsync(ImageInspectResponse previous, StageWork work, CommitContainerChangesParameters config, string target, string what,
        Func<CancellationToken, Task>? beforeCommit, CancellationToken ct)
    {
        if (!LayerImageConfig.CanCarry(config) || previous.RootFS?.Layers is null || !await engine.LoadSkipsLayersItHasAsync(ct)) return false;
        // Planned first (names checked, sizes from the objects' headers): the layer's size goes before its bytes.
        var tars = work.Git.Select(g => g.Path.PlanArchive(ct)).ToList();
        if (beforeCommit is not null) await beforeCommit(ct);

        var pipe = new Pipe(SaveArchive.PipeOptions);
        var layer = new LayerStream(pipe.Reader.AsStream(), GitTar.SizeOf(tars));
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // A thread of its own: its writes wait for the engine to read.
        var writing = Task.Factory.StartNew(() =>
        {
            Exception? failure = null;
            try
            {
                // Entries are small: written to the pipe a MiB at a time, not one wake-up of the reader each.
                using var output = new BufferedStream(pipe.Writer.AsStream(leaveOpen: true), 1 << 20);
                using var writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
                foreach (var tar in tars) tar.WriteTo(writer, abort.Token);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                pipe.Writer.Complete(failure);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        byte[]? imageConfig = null;
        var layers = previous.RootFS.Layers.Select((_, i) => new SaveArchiveLayer($"{i}.tar", null))
            .Append(new SaveArchiveLayer("layer.tar", () => layer)).ToList();
        try
        {
            await SaveArchive.LoadAsync(engine, null, () => imageConfig = LayerImageConfig.Write(previous, config, layer.DiffId, $"dapp: {what}", DateTimeOffset.UtcNow),
                layers, ct);
        }
        finally
        {
            // The load may have ended before it opened the layer (an engine error at once): its reader is completed
            // here, or the writer would wait for it forever once the pipe is full.
            abort.Cancel();
            await layer.DisposeAsync();
            await writing;
        }

        var id = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(imageConfig!));
        if (ImageConfigCheck.Mismatch(await engine.InspectImageAsync(id, ct), previous.RootFS.Layers.Append(layer.DiffId).ToList(), config) is { } mismatch)
        {
            await engine.RemoveImageAsync(id, force: false, CancellationToken.None);
            reporter.Warning($"{what}: the engine at {engine.Shown} loaded the stage's layer image with {mismatch}; building the stage in a container instead");
            return false;
        }
        await engine.TagAsync(id, target, ct);
        return true;
    }

    /// <summary>What the engine's image lacks of the one written, or null.</summary>
    internal sealed class LayerStream(Stream source, long length) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _read;
        private string? _diffId;
        private bool _disposed;

        public string DiffId => _diffId ?? throw new InvalidOperationException("the layer has not been read whole");

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Took(buffer.AsSpan(offset), source.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = await source.ReadAsync(buffer, cancellationToken);
            return Took(buffer.Span, count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Took(Span<byte> buffer, int count)
        {
            _read += count;
            if (_read > length || count == 0 && _read != length)
                throw new DappException($"the archive layer came out at {(count == 0 ? _read : "more than " + length)} bytes, not the {length} planned");
            _hash.AppendData(buffer[..count]);
            if (_read == length && _diffId is null) _diffId = "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                source.Dispose();
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

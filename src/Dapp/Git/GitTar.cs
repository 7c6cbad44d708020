using System.Buffers;
using System.Formats.Tar;
using System.Text;
using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>One entry of a git tar, planned: a directory, a file (its blob and size) or a symlink (its target).</summary>
internal sealed record PlannedEntry(string Name, TarEntryType Type, UnixFileMode Mode, TreeFile? File, long Size, string? LinkName);

/// <summary>
/// The entries of a tar of git files (an archive or a patch), planned before any is written, so that its exact size
/// is known before its bytes: a layer streamed into the engine inside a docker-save tar needs its size in its header.
/// Entries are GNU tar entries (names of any length, no per-entry extended header) as <see cref="TarWriter"/> writes them.
/// </summary>
public sealed class GitTar
{
    /// <summary>The two zero blocks that end a tar (<see cref="TarWriter"/> writes them after at least one entry).</summary>
    public const long EndSize = 2 * Block;

    private const int Block = 512;

    /// <summary>Blobs up to this size are copied out under the git lock and written outside it, so a slow reader of the tar never holds the lock.</summary>
    private const int CopiedBlob = 1 << 20;

    private readonly IReadOnlyList<PlannedEntry> _entries;
    private readonly DateTimeOffset _time;
    private readonly Lock _gitLock;

    internal GitTar(IReadOnlyList<PlannedEntry> entries, DateTimeOffset time, Lock gitLock)
    {
        _entries = entries;
        _time = time;
        _gitLock = gitLock;
        Size = entries.Sum(e => EntrySize(e.Name, e.LinkName, e.Size));
    }

    /// <summary>The bytes the entries take in the tar (without <see cref="EndSize"/>).</summary>
    public long Size { get; }

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>The bytes of a tar made of these tars' entries, as one <see cref="TarWriter"/> writes it.</summary>
    public static long SizeOf(IReadOnlyCollection<GitTar> tars) => tars.Sum(t => t.Size) + (tars.All(t => t.IsEmpty) ? 0 : EndSize);

    /// <summary>The bytes <see cref="TarWriter"/> writes for a GNU entry: a long name or link target takes an entry of its own.</summary>
    internal static long EntrySize(string name, string? linkName, long dataSize)
    {
        var size = Block + Blocks(dataSize);
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes > 100) size += Block + Blocks(nameBytes + 1);
        if (linkName is not null && Encoding.UTF8.GetByteCount(linkName) is var linkBytes && linkBytes >= 100) size += Block + Blocks(linkBytes + 1);
        return size;
    }

    private static long Blocks(long bytes) => (bytes + Block - 1) / Block * Block;

    /// <summary>Writes the entries; each blob is read under the git lock, which is given back between entries.</summary>
    public void WriteTo(TarWriter writer, CancellationToken ct)
    {
        foreach (var entry in _entries)
        {
            ct.ThrowIfCancellationRequested();
            var tar = new GnuTarEntry(entry.Type, entry.Name) { Mode = entry.Mode, ModificationTime = _time };
            if (entry.LinkName is not null) tar.LinkName = entry.LinkName;
            if (entry.File is not { } file)
            {
                writer.WriteEntry(tar);
            }
            else if (entry.Size > CopiedBlob)
            {
                lock (_gitLock)
                {
                    using var data = file.Blob.GetContentStream();
                    tar.DataStream = data;
                    writer.WriteEntry(tar);
                }
            }
            else
            {
                var buffer = ArrayPool<byte>.Shared.Rent((int)entry.Size);
                try
                {
                    int length;
                    lock (_gitLock)
                    {
                        using var data = file.Blob.GetContentStream();
                        length = data.ReadAtLeast(buffer, (int)entry.Size, throwOnEndOfStream: false);
                    }
                    if (length != entry.Size)
                        throw new DappException($"git: the blob of {file.Path} has {length} bytes, its header says {entry.Size}");
                    tar.DataStream = new MemoryStream(buffer, 0, length, writable: false);
                    writer.WriteEntry(tar);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }
}

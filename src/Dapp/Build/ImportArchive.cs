using System.Formats.Tar;
using Dapp.Config;

namespace Dapp.Build;

/// <summary>
/// Rewrites the tar the engine gives for an artifact's <c>add</c> path into one rooted at <c>/</c> that places it at
/// <c>to</c>, keeping only what includePaths/excludePaths select.
/// </summary>
internal static class ImportArchive
{
    /// <summary>
    /// The rewritten archive, spooled to a temp file deleted on close: TarWriter needs each entry's size before its
    /// data, which an unseekable output cannot give it for the engine's unseekable entry streams.
    /// </summary>
    public static async Task<Stream> RewriteAsync(Stream source, ImportConfig import, CancellationToken ct)
    {
        // The engine's chunked response stream fails under TarReader's exact-size reads; a plain copy is reliable.
        await using var original = TempSpool.Create("import");
        await source.CopyToAsync(original, ct);
        original.Position = 0;
        var rewritten = TempSpool.Create("import");
        try
        {
            await CopyAsync(original, rewritten, import, ct);
            rewritten.Position = 0;
            return rewritten;
        }
        catch
        {
            await rewritten.DisposeAsync();
            throw;
        }
    }

    public static async Task CopyAsync(Stream source, Stream output, ImportConfig import, CancellationToken ct)
    {
        var filter = new PathFilter(import.IncludePaths, import.ExcludePaths);
        await using var reader = new TarReader(source, leaveOpen: true);
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var to = import.To.Trim('/');
        while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            var relative = StripFirstComponent(entry.Name);
            if (relative.Length > 0 && !filter.IsSelected(relative)) continue;
            entry.Name = Join(to, relative, entry.EntryType == TarEntryType.Directory);
            if (entry.EntryType == TarEntryType.HardLink)
                entry.LinkName = Join(to, StripFirstComponent(entry.LinkName), false);
            await writer.WriteEntryAsync(entry, ct);
        }
    }

    private static string StripFirstComponent(string name)
    {
        var trimmed = name.TrimEnd('/');
        var slash = trimmed.IndexOf('/');
        return slash < 0 ? "" : trimmed[(slash + 1)..];
    }

    private static string Join(string to, string relative, bool directory)
    {
        var path = relative.Length == 0 ? to : to.Length == 0 ? relative : $"{to}/{relative}";
        if (path.Length == 0) path = ".";
        return directory ? path + "/" : path;
    }
}

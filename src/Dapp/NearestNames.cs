namespace Dapp;

/// <summary>The known names closest to a misspelt one (edit distance, an adjacent swap counting as one edit), for "did you mean".</summary>
internal static class NearestNames
{
    /// <summary>Up to <paramref name="count"/> names within a third of the name's length in edits (at least one), nearest first.</summary>
    public static IReadOnlyList<string> Find(string name, IEnumerable<string> known, int count = 3)
    {
        var limit = Math.Max(1, name.Length / 3);
        return known.Distinct(StringComparer.Ordinal)
            .Select(k => (Name: k, Distance: Distance(name, k, limit)))
            .Where(k => k.Distance <= limit)
            .OrderBy(k => k.Distance).ThenBy(k => k.Name, StringComparer.Ordinal)
            .Take(count).Select(k => k.Name).ToList();
    }

    /// <summary>Optimal string alignment distance; any value above <paramref name="limit"/> is reported as limit + 1.</summary>
    public static int Distance(string a, string b, int limit = int.MaxValue - 1)
    {
        if (Math.Abs(a.Length - b.Length) > limit) return limit + 1;
        var rows = new int[3][];
        for (int r = 0; r < 3; r++) rows[r] = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) rows[1][j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            var (before, previous, current) = (rows[(i + 2) % 3], rows[i % 3], rows[(i + 1) % 3]);
            current[0] = i;
            var best = i;
            for (int j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) value = Math.Min(value, before[j - 2] + 1);
                current[j] = value;
                best = Math.Min(best, value);
            }
            if (best > limit) return limit + 1;
        }
        return Math.Min(rows[(a.Length + 1) % 3][b.Length], limit + 1);
    }
}

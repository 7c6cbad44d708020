namespace Dapp;

/// <summary>A 1-based position in a dappfile.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";

    /// <summary>The position of the character at <paramref name="index"/> of a file's text.</summary>
    public static SourceLocation Of(string text, int index, string file)
    {
        int line = 1, col = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return new SourceLocation(file, line, col);
    }
}

using System.Text;

namespace Dapp.Engine;

/// <summary>Splits a container's output stream into lines, stdout and stderr separately.</summary>
internal sealed class LineSplitter(Action<string> onLine)
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Decoder _outDecoder = Encoding.UTF8.GetDecoder();
    private readonly Decoder _errDecoder = Encoding.UTF8.GetDecoder();

    public void Add(ReadOnlySpan<byte> bytes, bool isStderr)
    {
        var decoder = isStderr ? _errDecoder : _outDecoder;
        var pending = isStderr ? _stderr : _stdout;
        var chars = new char[decoder.GetCharCount(bytes, flush: false)];
        decoder.GetChars(bytes, chars, flush: false);
        foreach (var c in chars)
        {
            if (c == '\n')
            {
                onLine(pending.ToString().TrimEnd('\r'));
                pending.Clear();
            }
            else pending.Append(c);
        }
    }

    public void Flush()
    {
        if (_stdout.Length > 0) onLine(_stdout.ToString());
        if (_stderr.Length > 0) onLine(_stderr.ToString());
        _stdout.Clear();
        _stderr.Clear();
    }
}

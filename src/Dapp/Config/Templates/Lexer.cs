using System.Text;

namespace Dapp.Config.Templates;

public enum TokenKind
{
    Text, LeftDelim, RightDelim, Eof,
    Identifier, Field, Variable, Dot, String, RawString, Char, Number, Bool, Nil,
    Pipe, LeftParen, RightParen, Declare, Assign, Comma,
    If, Else, End, Range, With, Define, Template, Block, Break, Continue,
}

/// <summary>A token, where it starts and where it ends (offsets into the template's text).</summary>
public sealed record Token(TokenKind Kind, string Value, int Offset, int End);

/// <summary>
/// Go's text/template lexer: text between actions, and inside <c>{{ }}</c> the words of actions and pipelines.
/// <c>{{- </c> and <c> -}}</c> trim the white space of the text beside them; comments <c>{{/* */}}</c> vanish.
/// </summary>
internal sealed class Lexer(string text, TemplateSource source)
{
    private static readonly Dictionary<string, TokenKind> Keywords = new()
    {
        ["if"] = TokenKind.If, ["else"] = TokenKind.Else, ["end"] = TokenKind.End, ["range"] = TokenKind.Range,
        ["with"] = TokenKind.With, ["define"] = TokenKind.Define, ["template"] = TokenKind.Template, ["block"] = TokenKind.Block,
        ["break"] = TokenKind.Break, ["continue"] = TokenKind.Continue, ["true"] = TokenKind.Bool, ["false"] = TokenKind.Bool,
        ["nil"] = TokenKind.Nil,
    };

    private readonly List<Token> _tokens = [];
    private int _pos;

    public IReadOnlyList<Token> Lex()
    {
        var trimNext = false;
        while (_pos < text.Length)
        {
            var open = text.IndexOf("{{", _pos, StringComparison.Ordinal);
            var end = open < 0 ? text.Length : open;
            var trimThis = open >= 0 && IsLeftTrimMarker(open + 2);
            AddText(_pos, end, trimNext, trimThis);
            trimNext = false;
            if (open < 0)
            {
                _pos = text.Length;
                break;
            }
            _pos = open + 2 + (trimThis ? 2 : 0);
            if (text.AsSpan(_pos).StartsWith("/*"))
            {
                trimNext = LexComment(open);
                continue;
            }
            _tokens.Add(new Token(TokenKind.LeftDelim, "{{", open, _pos));
            trimNext = LexInsideAction(open);
        }
        _tokens.Add(new Token(TokenKind.Eof, "", text.Length, text.Length));
        return _tokens;
    }

    /// <summary><c>{{- </c>: a dash with white space after it (<c>{{-3}}</c> is the number -3). The closing <c> -}}</c> is found in the action.</summary>
    private bool IsLeftTrimMarker(int at) => at + 1 < text.Length && text[at] == '-' && IsSpace(text[at + 1]);

    private void AddText(int start, int end, bool trimLeft, bool trimRight)
    {
        if (trimLeft) while (start < end && IsSpace(text[start])) start++;
        if (trimRight) while (end > start && IsSpace(text[end - 1])) end--;
        if (end > start) _tokens.Add(new Token(TokenKind.Text, text[start..end], start, end));
    }

    private bool LexComment(int open)
    {
        var close = text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
        if (close < 0) throw Error(open, "unclosed comment");
        _pos = close + 2;
        var trim = false;
        if (_pos + 3 <= text.Length && text[_pos] is ' ' or '\t' or '\r' or '\n' && text[_pos + 1] == '-' && text.AsSpan(_pos + 2).StartsWith("}}"))
        {
            trim = true;
            _pos += 2;
        }
        if (!text.AsSpan(_pos).StartsWith("}}")) throw Error(open, "comment ends before closing delimiter");
        _pos += 2;
        return trim;
    }

    /// <summary>Lexes up to and including <c>}}</c>; true when it was <c> -}}</c>.</summary>
    private bool LexInsideAction(int open)
    {
        var parens = 0;
        while (true)
        {
            if (_pos >= text.Length) throw Error(open, "unclosed action");
            var c = text[_pos];
            if (IsSpace(c))
            {
                var spaceStart = _pos;
                while (_pos < text.Length && IsSpace(text[_pos])) _pos++;
                if (text.AsSpan(_pos).StartsWith("-}}"))
                {
                    _tokens.Add(new Token(TokenKind.RightDelim, "}}", _pos + 1, _pos + 3));
                    _pos += 3;
                    return true;
                }
                continue;
            }
            if (text.AsSpan(_pos).StartsWith("}}"))
            {
                if (parens > 0) throw Error(_pos, "unclosed left paren");
                _tokens.Add(new Token(TokenKind.RightDelim, "}}", _pos, _pos + 2));
                _pos += 2;
                return false;
            }
            var start = _pos;
            switch (c)
            {
                case '|': Add(TokenKind.Pipe, 1); break;
                case ',': Add(TokenKind.Comma, 1); break;
                case '(': parens++; Add(TokenKind.LeftParen, 1); break;
                case ')':
                    if (--parens < 0) throw Error(_pos, "unexpected right paren");
                    Add(TokenKind.RightParen, 1);
                    break;
                case ':':
                    if (_pos + 1 >= text.Length || text[_pos + 1] != '=') throw Error(_pos, "expected :=");
                    Add(TokenKind.Declare, 2);
                    break;
                case '=': Add(TokenKind.Assign, 1); break;
                case '"': LexQuoted(start, '"', TokenKind.String); break;
                case '`': LexRaw(start); break;
                case '\'': LexQuoted(start, '\'', TokenKind.Char); break;
                case '$':
                    _pos++;
                    while (_pos < text.Length && IsWordChar(text[_pos])) _pos++;
                    _tokens.Add(new Token(TokenKind.Variable, text[start.._pos], start, _pos));
                    break;
                case '.':
                    if (_pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1]))
                    {
                        LexNumber(start);
                        break;
                    }
                    _pos++;
                    if (_pos < text.Length && IsWordStart(text[_pos]))
                    {
                        while (_pos < text.Length && IsWordChar(text[_pos])) _pos++;
                        _tokens.Add(new Token(TokenKind.Field, text[start.._pos], start, _pos));
                    }
                    else _tokens.Add(new Token(TokenKind.Dot, ".", start, _pos));
                    break;
                default:
                    if (char.IsAsciiDigit(c) || (c is '+' or '-' && _pos + 1 < text.Length && (char.IsAsciiDigit(text[_pos + 1]) || text[_pos + 1] == '.')))
                        LexNumber(start);
                    else if (IsWordStart(c))
                    {
                        while (_pos < text.Length && IsWordChar(text[_pos])) _pos++;
                        var word = text[start.._pos];
                        _tokens.Add(new Token(Keywords.GetValueOrDefault(word, TokenKind.Identifier), word, start, _pos));
                    }
                    else throw Error(_pos, $"unexpected \"{c}\" in command");
                    break;
            }
        }
    }

    private void Add(TokenKind kind, int length)
    {
        _tokens.Add(new Token(kind, text.Substring(_pos, length), _pos, _pos + length));
        _pos += length;
    }

    private void LexQuoted(int start, char quote, TokenKind kind)
    {
        _pos++;
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= text.Length || text[_pos] == '\n') throw Error(start, kind == TokenKind.Char ? "unterminated character constant" : "unterminated quoted string");
            var c = text[_pos++];
            if (c == quote) break;
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }
            if (_pos >= text.Length) throw Error(start, "unterminated quoted string");
            var e = text[_pos++];
            switch (e)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case 'a': value.Append('\a'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'v': value.Append('\v'); break;
                case '\\': value.Append('\\'); break;
                case '"': value.Append('"'); break;
                case '\'': value.Append('\''); break;
                case 'x': value.Append((char)Hex(start, 2)); break;
                case 'u': value.Append(char.ConvertFromUtf32(Hex(start, 4))); break;
                case 'U': value.Append(char.ConvertFromUtf32(Hex(start, 8))); break;
                case >= '0' and <= '7':
                    if (_pos + 2 > text.Length) throw Error(start, "invalid escape in quoted string");
                    value.Append((char)Convert.ToInt32(text.Substring(_pos - 1, 3), 8));
                    _pos += 2;
                    break;
                default: throw Error(_pos - 2, $"invalid escape \\{e} in quoted string");
            }
        }
        _tokens.Add(new Token(kind, value.ToString(), start, _pos));
    }

    private int Hex(int start, int digits)
    {
        if (_pos + digits > text.Length || !int.TryParse(text.AsSpan(_pos, digits), System.Globalization.NumberStyles.HexNumber, null, out var value))
            throw Error(start, "invalid escape in quoted string");
        _pos += digits;
        return value;
    }

    private void LexRaw(int start)
    {
        var close = text.IndexOf('`', _pos + 1);
        if (close < 0) throw Error(start, "unterminated raw quoted string");
        _tokens.Add(new Token(TokenKind.RawString, text[(_pos + 1)..close], start, close + 1));
        _pos = close + 1;
    }

    private void LexNumber(int start)
    {
        if (text[_pos] is '+' or '-') _pos++;
        while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '.' or '_'
            || (text[_pos] is '+' or '-' && text[_pos - 1] is 'e' or 'E' or 'p' or 'P' && !text.AsSpan(start).StartsWith("0x"))))
            _pos++;
        _tokens.Add(new Token(TokenKind.Number, text[start.._pos], start, _pos));
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';
    private static bool IsWordStart(char c) => c == '_' || char.IsLetter(c);
    private static bool IsWordChar(char c) => c == '_' || char.IsLetterOrDigit(c);

    private DappfileException Error(int offset, string message) => source.Error(offset, message);
}

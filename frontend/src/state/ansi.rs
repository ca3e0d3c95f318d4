//! ANSI colours in log lines: the escape sequences are parsed by
//! `anstyle-parse` (a VTE parser); this module only keeps the SGR
//! (colour and weight) state and drops every other control sequence.

use anstyle_parse::{Params, Parser, Perform};

/// A colour as the terminal named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// 0–15: the terminal palette, themed by the page's CSS.
    Palette(u8),
    /// 16–255 of the xterm 256-colour cube and greys.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

impl Colour {
    fn css(self) -> String {
        match self {
            Colour::Palette(n) => format!("var(--ansi-{n})"),
            Colour::Indexed(n) => {
                let (r, g, b) = match n {
                    16..=231 => {
                        let n = n - 16;
                        let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
                        (level(n / 36), level(n / 6 % 6), level(n % 6))
                    }
                    _ => {
                        let v = 8 + 10 * n.saturating_sub(232);
                        (v, v, v)
                    }
                };
                format!("rgb({r},{g},{b})")
            }
            Colour::Rgb(r, g, b) => format!("rgb({r},{g},{b})"),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<Colour>,
    pub bg: Option<Colour>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Style {
    /// Inline CSS for a span, empty for plain text.
    pub fn css(&self) -> String {
        let mut css = String::new();
        if let Some(c) = self.fg {
            css += &format!("color:{};", c.css());
        }
        if let Some(c) = self.bg {
            css += &format!("background:{};", c.css());
        }
        if self.bold {
            css += "font-weight:700;";
        }
        if self.dim {
            css += "opacity:.7;";
        }
        if self.italic {
            css += "font-style:italic;";
        }
        if self.underline {
            css += "text-decoration:underline;";
        }
        css
    }

    fn apply(&mut self, params: &Params) {
        let mut it = params.iter().map(|p| p.first().copied().unwrap_or(0));
        let mut any = false;
        while let Some(code) = it.next() {
            any = true;
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                30..=37 => self.fg = Some(Colour::Palette((code - 30) as u8)),
                90..=97 => self.fg = Some(Colour::Palette((code - 90 + 8) as u8)),
                40..=47 => self.bg = Some(Colour::Palette((code - 40) as u8)),
                100..=107 => self.bg = Some(Colour::Palette((code - 100 + 8) as u8)),
                39 => self.fg = None,
                49 => self.bg = None,
                38 | 48 => {
                    let colour = match it.next() {
                        Some(5) => it.next().map(|n| {
                            let n = n.min(255) as u8;
                            if n < 16 {
                                Colour::Palette(n)
                            } else {
                                Colour::Indexed(n)
                            }
                        }),
                        Some(2) => {
                            let mut c = || it.next().unwrap_or(0).min(255) as u8;
                            Some(Colour::Rgb(c(), c(), c()))
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
        }
        if !any {
            *self = Style::default();
        }
    }
}

#[derive(Default)]
struct Spans {
    style: Style,
    out: Vec<(String, Style)>,
}

impl Spans {
    fn push(&mut self, c: char) {
        match self.out.last_mut() {
            Some((text, style)) if *style == self.style => text.push(c),
            _ => self.out.push((c.to_string(), self.style)),
        }
    }
}

impl Perform for Spans {
    fn print(&mut self, c: char) {
        self.push(c);
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            self.push('\t');
        }
    }

    fn csi_dispatch(&mut self, params: &Params, _: &[u8], ignore: bool, action: u8) {
        if action == b'm' && !ignore {
            self.style.apply(params);
        }
    }
}

/// The text split where its style changes.
pub fn spans(text: &str) -> Vec<(String, Style)> {
    if !text.contains('\x1b') {
        return vec![(text.to_owned(), Style::default())];
    }
    let mut parser = Parser::<anstyle_parse::DefaultCharAccumulator>::new();
    let mut spans = Spans::default();
    for b in text.bytes() {
        parser.advance(&mut spans, b);
    }
    spans.out
}

/// The text without escape sequences (what filters and downloads see).
pub fn strip(text: &str) -> String {
    if !text.contains('\x1b') {
        return text.to_owned();
    }
    spans(text).into_iter().map(|(t, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_one_unstyled_span() {
        assert_eq!(spans("hello"), [("hello".to_owned(), Style::default())]);
        assert_eq!(strip("hello"), "hello");
    }

    #[test]
    fn sgr_colours_and_weights_become_styles() {
        let got = spans("a\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[22;39m.");
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["a", "red", " ", "bold green", "."]);
        assert_eq!(got[1].1.fg, Some(Colour::Palette(1)));
        assert_eq!(got[1].1.css(), "color:var(--ansi-1);");
        assert!(got[3].1.bold && got[3].1.fg == Some(Colour::Palette(2)));
        assert_eq!(got[4].1, Style::default());
    }

    #[test]
    fn extended_colours() {
        let got = spans("\x1b[38;5;196mx\x1b[48;2;1;2;3my\x1b[38;5;244mz");
        assert_eq!(got[0].1.fg, Some(Colour::Indexed(196)));
        assert_eq!(got[0].1.css(), "color:rgb(255,0,0);");
        assert_eq!(got[1].1.bg, Some(Colour::Rgb(1, 2, 3)));
        assert_eq!(
            got[2].1.fg.map(Colour::css).as_deref(),
            Some("rgb(128,128,128)")
        );
    }

    #[test]
    fn other_control_sequences_are_dropped() {
        assert_eq!(strip("\x1b[2K\x1b[1Gdone\x1b]0;title\x07!"), "done!");
        assert_eq!(strip("tab\there"), "tab\there");
    }
}

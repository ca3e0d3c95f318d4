//! Browser tests come with the console.

"""nianbao: crawler and archive of Chinese government information-disclosure annual reports."""

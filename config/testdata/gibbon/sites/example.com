[HOST]
    ServerName Example.COM www.example.com
    ServerName *.example.com
    DocumentRoot /srv/example
